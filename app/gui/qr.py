"""QR codes as Qt pixmaps (segno: pure Python, no dependencies), for the receive address."""

from __future__ import annotations

import io

import segno
from PySide6.QtGui import QPixmap

from app.errors import AppError


def qr_png(text: str, module_px: int = 6, border: int = 2) -> bytes:
    """A black-on-white PNG QR code of ``text`` (error correction M), ``module_px`` pixels per module."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=module_px, border=border)
    return buffer.getvalue()


def qr_pixmap(text: str, module_px: int = 6) -> QPixmap:
    """The QR code of ``text`` as a pixmap for a QLabel."""
    pixmap = QPixmap()
    if not pixmap.loadFromData(qr_png(text, module_px), "PNG"):
        raise AppError("Could not draw the QR code; copy the address instead.")
    return pixmap
